"""One module per page, run by ``st.navigation`` as scripts (``__name__ == "__main__"``).

Not named ``pages``: Streamlit takes a ``pages/`` folder beside the entry script for its
legacy multipage layout, which would bypass ``st.navigation`` and the role checks.
"""

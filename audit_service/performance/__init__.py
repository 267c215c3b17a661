"""Staff performance: attribution of findings through the roster, the score model, disputes,
HR exports. Rules in docs/performance.md."""

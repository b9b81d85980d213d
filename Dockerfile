# syntax=docker/dockerfile:1
# Multi-stage build: wheels and the virtual environment are built in `build`, the runtime image
# carries only the venv, the app and the system libraries it needs, and runs as a non-root user.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY .ci/constraints.txt .ci/constraints.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install -c .ci/constraints.txt torch==2.14.1 torchvision==0.29.1
COPY core core
COPY storage storage
COPY media media
COPY webapp webapp
COPY plugins plugins
RUN /opt/venv/bin/pip install -c .ci/constraints.txt .

FROM python:3.11-slim-bookworm AS runtime
# bubblewrap, python3 (Debian's, at /usr/bin), gcc, g++, nodejs and libseccomp2: the coding
# judge's local sandbox and the languages it runs. The container must allow user namespaces
# (the sandbox needs no privilege; never run it --privileged): docs/judge.md.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libgl1 libglib2.0-0 libgomp1 curl \
        bubblewrap python3 gcc g++ libc6-dev nodejs libseccomp2 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system invigilator \
    && useradd --system --gid invigilator --home-dir /srv/invigilator --create-home invigilator
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/invigilator
COPY --chown=invigilator:invigilator plugins.toml ./plugins.toml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    INVIGILATOR_HOST=0.0.0.0 \
    INVIGILATOR_PORT=8080 \
    INVIGILATOR_DATA_DIR=/srv/invigilator/var \
    INVIGILATOR_PLUGINS_FILE=/srv/invigilator/plugins.toml
USER invigilator
RUN mkdir -p /srv/invigilator/var
VOLUME ["/srv/invigilator/var"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
CMD ["invigilator", "serve"]

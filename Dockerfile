# onwatch receiver: the README's steps (install the package, run `onwatch serve`) in an image.
#
# The image gets the package as a whole: the build stage turns the whole build context (the
# repository minus .dockerignore) into a wheel, so whatever pyproject.toml packages (new
# subpackages, migrations, templates) reaches the image without this file naming any of it.
# tests/e2e/test_docker_image.py installs the same context the same way and starts it.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed numeric uid, so that Kubernetes' runAsNonRoot can verify it.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/onwatch --no-create-home \
        --shell /usr/sbin/nologin onwatch \
    && install -d -o onwatch -g onwatch -m 0750 /var/lib/onwatch
COPY --from=build /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels
COPY config.example.yaml /app/config.example.yaml

ENV ONWATCH_CONFIG=/app/config.example.yaml \
    ONWATCH_DATABASE_URL=sqlite:////var/lib/onwatch/onwatch.db
USER 10001:10001
WORKDIR /var/lib/onwatch
VOLUME ["/var/lib/onwatch"]
EXPOSE 8080
# slim has no curl: python's urllib fails (exit 1) on anything but a 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["onwatch", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]

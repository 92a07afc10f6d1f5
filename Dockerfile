# onwatch receiver. The steps are the README's: install the package, run `onwatch serve`.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md config.example.yaml ./
COPY receiver ./receiver
COPY scheduler ./scheduler
COPY rules ./rules
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/onwatch onwatch \
    && mkdir -p /var/lib/onwatch && chown onwatch /var/lib/onwatch

USER onwatch
WORKDIR /var/lib/onwatch
ENV ONWATCH_CONFIG=/app/config.example.yaml \
    ONWATCH_DATABASE_URL=sqlite:////var/lib/onwatch/onwatch.db
VOLUME ["/var/lib/onwatch"]
EXPOSE 8080
CMD ["onwatch", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]

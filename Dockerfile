# Production image: gunicorn + whitenoise for the web, the same image for worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext curl postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
RUN mkdir -p config && pip install --no-cache-dir -e . || true
COPY . .
RUN pip install --no-cache-dir -e . \
 && DEBUG=1 python manage.py compilemessages -v0 \
 && DEBUG=1 SECRET_KEY=build python manage.py collectstatic --noinput -v0

RUN useradd --create-home --uid 1000 maklumat && mkdir -p /app/var/media /app/var/metrics && chown -R maklumat /app/var
USER maklumat

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

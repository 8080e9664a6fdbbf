# Tollgate's image: one image for the web process (gunicorn, the default command), the Celery worker and beat, and the
# one-shot migration (compose.yaml gives each its command; README, Production).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATICFILES_BACKEND=whitenoise.storage.CompressedManifestStaticFilesStorage \
    MEDIA_ROOT=/app/media

# WeasyPrint (the board pack PDF) draws text with Pango; a font for it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# The dependencies as pyproject.toml pins them.
RUN pip install . \
    && SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput --verbosity 0

# Runs as a user without rights on the code; it writes uploads (MEDIA_ROOT, a volume) and nothing else here.
RUN useradd --create-home --uid 10001 tollgate && mkdir -p /app/media && chown tollgate /app/media
USER tollgate

EXPOSE 8000
CMD ["gunicorn", "tollgate.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4"]

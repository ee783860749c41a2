"""The production static files: ``collectstatic`` with the manifest storage docker-compose uses
(DEBUG off) must succeed — it fails on any file that references one that is not vendored."""

from django.core.management import call_command


def test_collectstatic_with_the_production_storage(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/chart.umd.js" in manifest and "vendor/htmx.min.js" in manifest

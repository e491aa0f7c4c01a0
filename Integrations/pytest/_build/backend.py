"""A PEP 517 build backend from the standard library only.

Why not setuptools: the project's venv has setuptools 66 and no `wheel`
package, and setuptools before 70.1 cannot build a wheel without it
("invalid command 'bdist_wheel'"), so `pip install --no-build-isolation
./Integrations/pytest` failed offline. This backend needs nothing: the
wheel is a zip of the package, METADATA, WHEEL, entry_points.txt (the
pytest11 entry point) and RECORD. The metadata lives here, in one place.
"""

import base64
import hashlib
import os
import tarfile
import zipfile

NAME = "pytest_tractor_diag"
DIST = "pytest-tractor-diag"
VERSION = "0.1.0"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "py3-none-any"

METADATA = """Metadata-Version: 2.1
Name: {dist}
Version: {version}
Summary: At a test's deadline, a tractor-diag verdict on the processes the test started, then they are ended
Requires-Python: >=3.8
Requires-Dist: pytest>=7
Classifier: Framework :: Pytest
Classifier: Operating System :: POSIX :: Linux
Description-Content-Type: text/markdown

{readme}"""

WHEEL = "Wheel-Version: 1.0\nGenerator: pytest-tractor-diag _build/backend.py\nRoot-Is-Purelib: true\nTag: {tag}\n"
ENTRY_POINTS = "[pytest11]\ntractor_diag = pytest_tractor_diag.plugin\n"


def _sources():
    src = os.path.join(HERE, "src", NAME)
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            with open(os.path.join(src, name), "rb") as f:
                yield "%s/%s" % (NAME, name), f.read()


def _metadata_files():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    info = "%s-%s.dist-info" % (NAME, VERSION)
    return info, [
        (info + "/METADATA", METADATA.format(dist=DIST, version=VERSION, readme=readme).encode()),
        (info + "/WHEEL", WHEEL.format(tag=TAG).encode()),
        (info + "/entry_points.txt", ENTRY_POINTS.encode()),
        (info + "/top_level.txt", (NAME + "\n").encode()),
    ]


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info, files = _metadata_files()
    for path, data in files:
        full = os.path.join(metadata_directory, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info, meta = _metadata_files()
    name = "%s-%s-%s.whl" % (NAME, VERSION, TAG)
    files = list(_sources()) + meta
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            z.writestr(path, data)
        record = [_record_line(p, d) for p, d in files] + [info + "/RECORD,,"]
        z.writestr(info + "/RECORD", "\n".join(record) + "\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (DIST.replace("-", "_"), VERSION)
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "README.md", "_build/backend.py"] + ["src/" + p for p, _ in _sources()]:
            t.add(os.path.join(HERE, rel), arcname=base + "/" + rel)
    return name

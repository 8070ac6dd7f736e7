"""--config files: every mistake is found before anything runs, in one line naming the file and the key."""

import json

import pytest

from service.cli import main
from training.config import PROFILES, default_models, load_config

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


def test_every_video_model_reads_the_same_frames_in_each_profile():
    for profile in PROFILES:
        models = default_models(profile)
        video = {name: spec for name, spec in models.items() if spec.encoder == "video"}
        assert {spec.params["pooling"] for spec in video.values()} == {"mean", "tempconv", "lstm", "bilstm"}
        frames = {tuple(sorted((k, v) for k, v in spec.params.items() if k != "pooling")) for spec in video.values()}
        assert len(frames) == 1, profile  # so they share one feature cache entry per movie
    assert default_models("paper")["video_bilstm"].params["backbone"] == "vgg16"
    assert "backbone" not in default_models("cpu")["video_lstm"].params  # the encoder's default


def test_a_backbone_override_reaches_the_encoder_and_keeps_the_rest_of_the_spec(tmp_path):
    path = write(tmp_path, {"models": {"video_lstm": {"params": {"backbone": "resnet18", "n_frames": 8}},
                                       "poster": {"params": {"weights_path": "poster.pth"}}}})
    config = load_config(path)
    lstm = config.build("video_lstm")
    assert (lstm.backbone, lstm.n_frames, lstm.pooling) == ("resnet18", 8, "lstm")
    assert config.build("poster").weights_path == "poster.pth"
    assert config.build("video").backbone == "efficientnet_lite0"  # the other video models are untouched


def test_the_profile_argument_beats_the_file(tmp_path):
    path = write(tmp_path, {"profile": "paper"})
    assert load_config(path).build("poster").backbone == "vgg16"
    assert load_config(path, profile="cpu").build("poster").backbone == "efficientnet_lite0"


def test_a_model_may_switch_its_encoder_but_not_to_another_modality(tmp_path):
    config = load_config(write(tmp_path, {"models": {"text": {"encoder": "text_minilm"}}}))
    assert type(config.build("text")).__name__ == "SentenceTextEncoder"
    path = write(tmp_path, {"models": {"text": {"encoder": "audio"}}})
    with pytest.raises(ValueError, match="encoder 'audio' does not encode the text modality"):
        load_config(path)
    moved = load_config(write(tmp_path, {"models": {"extra": {"modality": "poster", "params": {"image_size": 64}}}}))
    assert moved.models["extra"].encoder == "poster" and moved.build("extra").image_size == 64

import logging

import pytest
import torch

torch.set_num_threads(2)
logging.getLogger("models.backbones").setLevel(logging.ERROR)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)

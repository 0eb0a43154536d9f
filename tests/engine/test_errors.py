from __future__ import annotations

import pickle

from engine.errors import BadArguments, BrokerUnavailable, EngineError


def test_errors_keep_code_and_params_across_pickling() -> None:
    err = BadArguments(
        "fast must be an integer between 2 and 200", code="param_out_of_range", name="fast", min=2
    )
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is BadArguments
    assert str(back) == str(err)
    assert back.code == "param_out_of_range"
    assert dict(back.params) == {"name": "fast", "min": 2}


def test_default_code_survives() -> None:
    back = pickle.loads(pickle.dumps(BrokerUnavailable("terminal closed")))
    assert isinstance(back, EngineError) and back.code == "broker_unavailable"

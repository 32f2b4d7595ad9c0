import copy
import json
import logging
import pickle

import pytest

from toolkit.secrets import Secret, generate_password, reveal

VALUE = "pe_Zq81ksWq0aLmv3XnB7tY4uR2eP9oIcJd"


def test_every_display_path_is_masked():
    s = Secret(VALUE, "api_key")
    shown = [
        repr(s),
        str(s),
        f"{s}",
        f"{s:>40}",
        "%s" % s,  # noqa: UP031 - the old formatting path must be masked too
        s._repr_html_(),
        json.dumps(s._repr_mimebundle_()),
    ]
    for text in shown:
        assert VALUE not in text
        assert "api_key=****" in text
    assert repr([s, {"k": s}]).count("****") == 2


def test_fingerprint_is_stable_and_distinguishes_values():
    assert Secret(VALUE).fingerprint == Secret(VALUE).fingerprint
    assert Secret(VALUE).fingerprint != Secret(VALUE + "x").fingerprint
    assert len(Secret(VALUE).fingerprint) == 6


def test_value_only_through_reveal():
    s = Secret(VALUE)
    assert s.reveal() == VALUE
    assert reveal(s) == VALUE and reveal("plain") == "plain"
    with pytest.raises(AttributeError, match="immutable"):
        s._value = "x"


def test_refuses_pickling():
    with pytest.raises(TypeError, match="refuses to be pickled"):
        pickle.dumps(Secret(VALUE))
    with pytest.raises(TypeError, match="refuses to be pickled"):
        pickle.dumps({"nested": [Secret(VALUE)]})


def test_json_refuses_and_copy_keeps_the_holder():
    with pytest.raises(TypeError):
        json.dumps({"k": Secret(VALUE)})
    s = Secret(VALUE)
    assert copy.copy(s) is s and copy.deepcopy([s])[0] is s


def test_equality_and_wrapping():
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE) != Secret("other")
    assert Secret(b"x") != Secret("x")
    assert Secret(Secret(VALUE, "a"), "b").reveal() == VALUE
    assert Secret(VALUE) != VALUE  # never equal to the plain value: no accidental comparisons
    with pytest.raises(TypeError, match="str or bytes"):
        Secret(12345)


def test_logging_a_secret_logs_the_mask(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("key is %s / %r", Secret(VALUE), Secret(VALUE))
    assert VALUE not in caplog.text and "****" in caplog.text


def test_exception_message_with_a_secret_is_masked():
    err = ValueError("bad key", Secret(VALUE))
    assert VALUE not in str(err) and VALUE not in repr(err)


def test_generate_password():
    a, b = generate_password(), generate_password()
    assert a != b and len(a.reveal()) >= 20 and a.label == "password"

"""search_app.json_encoding: API bodies encoded by orjson keep Flask's shape."""
import json

from flask import Flask, jsonify

from search_app.json_encoding import OrjsonProvider


def app_with_provider(debug=False):
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.debug = debug
    return app


def test_the_body_is_compact_in_insertion_order_with_utf8_and_a_closing_newline():
    app = app_with_provider()
    with app.app_context():
        body = jsonify({"z": 1, "a": "Ménière", "list": [1.5, None, True]}).get_data()
    assert body == '{"z":1,"a":"Ménière","list":[1.5,null,true]}\n'.encode()
    assert json.loads(body) == {"z": 1, "a": "Ménière", "list": [1.5, None, True]}


def test_debug_mode_and_explicit_options_fall_back_to_the_standard_library():
    app = app_with_provider(debug=True)
    with app.app_context():
        assert b'\n  "a": 1' in jsonify({"a": 1}).get_data()
        assert app.json.dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
        assert app.json.dumps({"b": 1}) == '{"b":1}'

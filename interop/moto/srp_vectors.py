"""Cognito SRP (USER_SRP_AUTH's PASSWORD_VERIFIER) computed by pycognito, an independent
implementation, for the client's tests to compare against.

Reads JSON cases on stdin, one per line: {"a", "b", "salt", "pool_id", "user_id", "password",
"secret_block", "timestamp"} (a, b, salt in hex; timestamp as Cognito formats it), or
{"random": N} for N random cases. Writes one JSON line per case with the inputs and
"big_a" (SRP_A as sent), "key" (the HKDF key, hex) and "signature" (PASSWORD_CLAIM_SIGNATURE).
Also {"timestamp_of": epoch_seconds} -> the same with "timestamp", and {"secret_hash": [user,
client, secret]} -> the same with "hash" (SECRET_HASH).
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import random
import sys

from pycognito import aws_srp
from pycognito.aws_srp import AWSSRP


class NoClient:
    """pycognito wants a boto3 client; nothing here calls it."""


def compute(case):
    srp = AWSSRP(
        username=case["user_id"],
        password=case["password"],
        pool_id=case["pool_id"],
        client_id="client",
        client=NoClient(),
    )
    srp.small_a_value = int(case["a"], 16)
    srp.large_a_value = srp.calculate_a()
    key = srp.get_password_authentication_key(
        case["user_id"], case["password"], int(case["b"], 16), case["salt"]
    )
    msg = (
        bytearray(case["pool_id"].split("_")[1], "utf-8")
        + bytearray(case["user_id"], "utf-8")
        + bytearray(base64.standard_b64decode(case["secret_block"]))
        + bytearray(case["timestamp"], "utf-8")
    )
    sig = base64.standard_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    out = dict(case)
    out.update(
        big_a=aws_srp.long_to_hex(srp.large_a_value), key=key.hex(), signature=sig
    )
    return out


def random_case(rng):
    def hexn(nbytes):
        return rng.randbytes(nbytes).hex().lstrip("0") or "1"

    return {
        "a": hexn(128),
        # Server B values: full size (often with the top bit set) and short ones.
        "b": hexn(rng.choice([16, 200, 384])),
        "salt": hexn(rng.choice([1, 15, 16, 17])),
        "pool_id": "us-east-1_" + rng.randbytes(5).hex(),
        "user_id": rng.choice(["alice", "b\u00f6b", "3f0c2a9e-1d2b-4c5d-8e9f-0a1b2c3d4e5f"]),
        "password": rng.choice(["Passw0rd!", "p\u00e4ss w\u00f6rd \U0001f511", "x" * 99]),
        "secret_block": base64.standard_b64encode(rng.randbytes(rng.choice([1, 64, 500]))).decode(),
        "timestamp": AWSSRP.get_cognito_formatted_timestamp(
            datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=rng.randrange(2_000_000_000))
        ),
    }


def main():
    rng = random.Random(os.environ.get("SRP_SEED"))
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if "random" in req:
            for _ in range(req["random"]):
                print(json.dumps(compute(random_case(rng))))
        elif "timestamp_of" in req:
            t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=req["timestamp_of"])
            print(json.dumps({"timestamp_of": req["timestamp_of"], "timestamp": AWSSRP.get_cognito_formatted_timestamp(t)}))
        elif "secret_hash" in req:
            u, c, s = req["secret_hash"]
            print(json.dumps({"secret_hash": [u, c, s], "hash": AWSSRP.get_secret_hash(u, c, s)}))
        else:
            print(json.dumps(compute(req)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()

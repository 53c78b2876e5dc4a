#!/usr/bin/env python3
# tests/rds_iam/botocore_token.py - the RDS IAM auth token as botocore (the
# AWS CLI's `aws rds generate-db-auth-token`) computes it, at a fixed clock:
# the independent implementation the relay's token is checked against.
#
#   botocore_token.py EPOCH HOST PORT USER REGION   (credentials from
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
#   botocore_token.py --vectors FILE                one vector a line, tab-separated:
#                                                   epoch host port user region akid secret token|-
#   prints the token(s), one a line
import datetime
import sys

import botocore.auth
import botocore.session

_now = [None]


def _fixed(remove_tzinfo=True):
    t = datetime.datetime.fromtimestamp(_now[0], datetime.timezone.utc)
    return t.replace(tzinfo=None) if remove_tzinfo else t


class _FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return _fixed()


class _DatetimeModule:
    # what older botocore calls: datetime.datetime.utcnow()
    datetime = _FixedDatetime

    def __getattr__(self, name):
        return getattr(datetime, name)


# newer botocore reads the clock through get_current_datetime, older through datetime
if hasattr(botocore.auth, "get_current_datetime"):
    botocore.auth.get_current_datetime = _fixed
botocore.auth.datetime = _DatetimeModule()


def token(epoch, host, port, user, region, akid, secret, session_token):
    _now[0] = epoch
    s = botocore.session.Session()
    s.set_credentials(akid, secret, session_token)
    rds = s.create_client("rds", region_name=region)
    return rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)


def main():
    import os

    if len(sys.argv) == 3 and sys.argv[1] == "--vectors":
        with open(sys.argv[2], encoding="utf-8") as f:
            for line in f:
                e, host, port, user, region, akid, secret, tok = line.rstrip("\n").split("\t")
                print(token(int(e), host, int(port), user, region, akid, secret,
                            None if tok == "-" else tok))
        return
    e, host, port, user, region = sys.argv[1:6]
    print(token(int(e), host, int(port), user, region, os.environ["AWS_ACCESS_KEY_ID"],
                os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN") or None))


if __name__ == "__main__":
    main()

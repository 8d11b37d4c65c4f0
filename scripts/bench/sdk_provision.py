"""The Azure SDK doing what `pus-mount provision` does for an existing user: create-if-missing plus the
owner check (Create Share -> 409 -> Get Share Properties). usage: sdk_provision.py ENDPOINT ACCOUNT KEYFILE SHARE USER"""
import sys
from azure.core.exceptions import ResourceExistsError
from azure.storage.fileshare import ShareClient

endpoint, account, keyfile, share, user = sys.argv[1:6]
key = open(keyfile).read().split()[0]
c = ShareClient(endpoint, share, credential={"account_name": account, "account_key": key}, retry_total=0)
try:
    c.create_share(quota=100, metadata={"pus_user": user, "pus_uid": "42001", "pus_created_by": "pus-mount"})
except ResourceExistsError:
    if c.get_share_properties().metadata.get("pus_user") != user:
        sys.exit(77)

"""Drives a SCIM endpoint with scim2-client, one step per call, as an IdP would.

Usage: client_steps.py BASE_URL TOKEN STEP STATE_JSON
STEP is create, patch, deactivate or delete; STATE_JSON keeps the ids between steps.
The caller checks the directory after each step.
"""

import json
import os
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def person(name):
    return {"schemas": [USER], "userName": name, "displayName": f"Person {name}",
            "emails": [{"value": f"{name}@corp.example", "type": "work", "primary": True}], "active": True}


def main() -> int:
    base, token, step, state_file = sys.argv[1:5]
    state = json.load(open(state_file)) if os.path.exists(state_file) else {}
    client = SyncSCIMClient(httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30))
    client.discover()
    user_model, group_model = client.get_resource_model("User"), client.get_resource_model("Group")
    if step == "create":
        for name in ("carol", "dave"):
            created = client.create(user_model.model_validate(person(name)))
            state[name] = created.id
        group = group_model.model_validate({"schemas": [GROUP], "displayName": "scim-team",
                                            "members": [{"value": state["carol"]}]})
        state["group"] = client.create(group).id
    elif step == "patch":
        client.modify(user_model, state["carol"], {"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "displayName", "value": "Carol Changed"}]})
        client.modify(group_model, state["group"], {"schemas": [PATCH], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": state["dave"]}]}]})
    elif step == "deactivate":
        client.modify(user_model, state["carol"], {"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "active", "value": False}]})
    elif step == "delete":
        client.delete(group_model, state["group"])
        client.delete(user_model, state["dave"])
    else:
        raise SystemExit(f"unknown step {step}")
    json.dump(state, open(state_file, "w"))
    print(f"scim2-client: {step} done")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seeds a running Zvonok server through its public API for the contract fuzzing run.

Builds one small region (a regional admin, a municipality, a school with a school admin, a class, a teacher,
a student with a guardian, a direct chat, an official registry matching the school), then writes a schemathesis configuration whose dictionaries feed
these real ids into path, query and body parameters part of the time, so that the fuzzer reaches past the
404s of made-up ids into the handlers themselves. Prints the regional admin's token and a school admin's on standard
output, on one line; that school admin's id is left out of the dictionaries, so their own pass does not remove or
sign out the very account it runs as.

Usage: seed.py BASE_URL MINISTRY_TOKEN CONFIG_OUT
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"seed: {method} {path} answered {error.code}: {error.read().decode(errors='replace')}")
    return json.loads(text) if text else {}


def upload(base, token, chat, name, data):
    """`POST /v1/chats/{chat}/files?name=` with raw bytes; returns the file's id."""
    request = urllib.request.Request(f"{base}/v1/chats/{chat}/files?name={urllib.parse.quote(name)}", data=data, method="POST")
    request.add_header("Authorization", "Bearer " + token)
    request.add_header("Content-Type", "application/octet-stream")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["id"]


def main():
    base, ministry, config_path = sys.argv[1:4]

    def activate(person):
        return call(base, "POST", f"/v1/invites/{person['inviteCode']}/activate", body={})["token"]

    region = call(base, "POST", "/v1/regions", ministry, {"code": "77", "name": "Москва"})["code"]
    regional_admin = call(base, "POST", f"/v1/regions/{region}/admins", ministry, {"name": "Региональный админ"})
    regional = activate(regional_admin)
    municipality = call(base, "POST", f"/v1/regions/{region}/municipalities", regional, {"name": "Район", "externalId": "M-1"})["id"]
    municipal_admin = call(base, "POST", f"/v1/municipalities/{municipality}/admins", regional, {"name": "Муниципальный админ"})
    school = call(base, "POST", f"/v1/municipalities/{municipality}/schools", regional, {"name": "Школа №1", "externalId": "S-1"})["id"]
    school_admin = call(base, "POST", f"/v1/schools/{school}/staff", regional, {"name": "Завуч", "role": "school_admin"})
    school_class = call(base, "POST", f"/v1/schools/{school}/classes", regional, {"grade": 5, "letter": "А", "year": "2026/2027"})["id"]
    teacher = call(base, "POST", f"/v1/schools/{school}/staff", regional, {"name": "Учитель", "role": "teacher"})
    call(base, "POST", f"/v1/classes/{school_class}/teachers", regional, {"staffId": teacher["id"], "homeroom": True})
    student = call(base, "POST", f"/v1/classes/{school_class}/students", regional, {"name": "Ученик"})
    guardian = call(base, "POST", f"/v1/students/{student['id']}/guardians", regional, {"name": "Родитель"})
    activate(school_admin)
    fuzzing_admin = activate(call(base, "POST", f"/v1/schools/{school}/staff", regional, {"name": "Второй завуч", "role": "school_admin"}))
    activate(student)
    chat = call(base, "POST", "/v1/chats/direct", activate(teacher), {"userId": student["id"]})["id"]
    # The region's official registry, matched by the school's number, so that its mismatches answer 200.
    call(base, "PATCH", f"/v1/schools/{school}", regional, {"officialId": "7701000001"})
    call(base, "PUT", f"/v1/regions/{region}/registry", ministry,
         [{"officialId": "7701000001", "name": "Школа №1", "municipality": "Район"}, {"officialId": "7701000002", "name": "Лицей"}])

    # A file in the school channel, where the fuzzing school admin may post and fetch (issue 17).
    channel = next(c["id"] for c in call(base, "GET", "/v1/me/chats", fuzzing_admin)["items"] if c["kind"] == "school")
    file = upload(base, fuzzing_admin, channel, "Расписание.txt", "Расписание звонков: 8:30, 9:25\n".encode())

    people = [teacher["id"], student["id"], guardian["id"], school_admin["id"], municipal_admin["id"]]
    ids = [municipality, school, school_class, chat, channel, file] + people
    codes = [region, guardian["inviteCode"]]

    def toml_list(values):
        return "[" + ", ".join(json.dumps(value) for value in values) + "]"

    def binding(dictionary):
        return f'{{ dictionary = "{dictionary}", probability = 0.6 }}'

    with open(config_path, "w", encoding="utf-8") as config:
        # No state kept between runs: each run is the same for the same seed, and leaves no folder behind.
        config.write("[cache]\nenabled = false\n\n")
        config.write(f"[dictionaries.ids]\nvalues = {toml_list(ids)}\n\n")
        config.write(f"[dictionaries.people]\nvalues = {toml_list(people)}\n\n")
        config.write(f"[dictionaries.codes]\nvalues = {toml_list(codes)}\n\n")
        config.write(f"[dictionaries.classes]\nvalues = {toml_list([school_class])}\n\n")
        config.write(f"[dictionaries.municipalities]\nvalues = {toml_list([municipality])}\n\n")
        config.write("[parameters]\n")
        for key, dictionary in [
            ("path.id", "ids"), ("path.code", "codes"), ("path.staffId", "people"), ("query.actor", "people"),
            ("query.region", "codes"), ("query.municipality", "municipalities"), ("body.staffId", "people"),
            ("body.userId", "people"), ("body.classId", "classes"),
        ]:
            config.write(f'"{key}" = {binding(dictionary)}\n')
        # Well-formed requests that a rule no schema can state still refuses with 400, as the document says: a rating
        # level with a region or municipality that does not narrow it, a CSV that is no roster, a GET /v1/ws without
        # the WebSocket upgrade (schemathesis cannot speak WebSocket). The trend takes the weekly rating's parameters and
        # rules. The server fuzzed here has no sign-in provider, so the provider's routes answer 404; unlinking a person
        # who never linked an account is 404 too. Removing a seeded region, municipality, school or class is refused with
        # 409 while it holds anything (the seed fills each), and a class renamed to a grade and letter another class of
        # its school has is 409 too. Notifications (issue 18): a Web Push endpoint off the allow-list or keys that are no
        # P-256 point, a time zone PostgreSQL does not know, `until` with `muted: false` are 400; deleting a subscription
        # or device the caller does not have is 404. A rollover takes two consecutive school years (400 otherwise) and is 409 when a
        # class of the new year holds a promoted class's name; a registry upload refuses a CSV that is no registry and
        # an officialId listed twice (400); a school's officialId held by another school is 409.
        for operation in ["weeklyRating", "weeklyRatingTrend", "uploadRoster", "webSocket", "startSignIn", "finishSignIn",
                          "backChannelLogout", "unlinkPersonIdentity", "removeRegion", "removeMunicipality", "removeSchool",
                          "removeClass", "renameClass", "createPushSubscription", "deletePushSubscription", "registerDevice",
                          "deleteDevice", "setRegionTimeZone", "setChatNotifications", "rollOverSchool", "rollOverMunicipality",
                          "rollOverRegion", "uploadRegistry", "changeSchool"]:
            config.write(f'\n[[operations]]\ninclude-operation-id = "{operation}"\n')
            config.write('checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401, 403, 404, 409, 429]\n')
        # Files: generated bytes are mostly of no accepted type (415); a generated Range may lie past the end (416); a
        # text file has no preview (404).
        for operation in ["uploadFile", "downloadFile", "downloadFilePreview"]:
            config.write(f'\n[[operations]]\ninclude-operation-id = "{operation}"\n')
            config.write('checks.positive_data_acceptance.expected-statuses = ["2xx", 304, 400, 401, 403, 404, 413, 415, 416, 429]\n')
    print(regional, fuzzing_admin)


if __name__ == "__main__":
    main()

"""Signing through the review page as a specialist does: the action, then its confirmation."""

import re


def sign_on_page(client, url: str, data: dict, *, follow: bool = False):
    """Post a signed action (approve, amend, decline, an addendum), then confirm the record the
    confirmation page shows. A refusal before the confirmation is returned as it came."""
    shown = client.post(url, data)
    found = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', shown.content.decode())
    if found is None:
        return client.get(shown["Location"]) if follow and shown.status_code == 302 else shown
    return client.post(url, {**data, "confirm": "stay", "fingerprint": found.group(1)}, follow=follow)

import pytest

from tests.factories import make_user


@pytest.fixture
def desk(client):
    """A signed-in front-desk user's browser (a module may define its own, for another name)."""
    client.force_login(make_user("desk_ana", group="Front desk"))
    return client

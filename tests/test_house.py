"""The house's floors hold for the models too: a relation points from a higher app to a lower
one (a draft at its case, a decision at its draft), never up. import-linter checks the imports;
a relation named by a string ("recommendations.Recommendation") is no import, so it is read here."""

from django.apps import apps

# Bottom first, as pyproject.toml's import contracts order the packages.
FLOORS = ["intake", "recommendations", "aftercare", "web"]


def upward_relations() -> list[str]:
    floor = {label: n for n, label in enumerate(FLOORS)}
    found = []
    for model in apps.get_models():
        here = floor.get(model._meta.app_label)
        if here is None:
            continue
        for field in model._meta.get_fields():
            # Declared on this model (a foreign key, one-to-one or many-to-many), not a reverse accessor.
            if not field.is_relation or field.auto_created or field.related_model is None:
                continue
            there = floor.get(field.related_model._meta.app_label)
            if there is not None and there > here:
                found.append(f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}")
    return found


def test_every_app_of_ours_has_a_floor():
    ours = {
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith(("intake", "recommendations", "clinic"))
    }
    assert ours == set(FLOORS)


def test_no_model_refers_to_a_model_of_a_higher_app():
    assert upward_relations() == []

from django.contrib.auth.management import create_permissions
from django.db import migrations

FRONT_DESK = "Front desk"
SPECIALISTS = "Specialists"

ROLE_PERMISSIONS = {
    FRONT_DESK: [
        ("intake", "add_patient"),
        ("intake", "change_patient"),
        ("intake", "view_patient"),
        ("intake", "add_case"),
        ("intake", "view_case"),
        ("intake", "view_caseevent"),
    ],
    SPECIALISTS: [
        ("intake", "view_patient"),
        ("intake", "view_case"),
        ("intake", "view_caseevent"),
        ("recommendations", "view_recommendation"),
        ("recommendations", "view_decision"),
        ("recommendations", "add_decision"),
        ("recommendations", "decide_case"),
        ("recommendations", "view_addendum"),
        ("recommendations", "add_addendum"),
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now so
    # the groups can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [
                Permission.objects.get(content_type__app_label=app, codename=codename)
                for app, codename in perms
            ]
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0001_initial"),
        ("intake", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

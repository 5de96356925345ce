"""The fastest thing the same stack can do: one INSERT from a view, one from a task."""

from celery import shared_task
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS bench_bare_view (id bigserial PRIMARY KEY, body text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_bare_task (id bigserial PRIMARY KEY, n integer NOT NULL)",
]


@csrf_exempt
def bare_view(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_view (body) VALUES (%s) RETURNING id", [request.body.decode()])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


@shared_task(name="bench.bare_task", acks_late=True)
def bare_task(n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_task (n) VALUES (%s)", [n])

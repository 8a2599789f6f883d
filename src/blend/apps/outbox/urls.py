from django.urls import path

from blend.apps.outbox import views

app_name = "outbox"
urlpatterns = [
    path("", views.message_list, name="list"),
    path("undelivered/", views.undelivered_list, name="undelivered"),
]

from django.urls import path

from blend.apps.api.endpoints import api

urlpatterns = [path("api/", api.urls)]

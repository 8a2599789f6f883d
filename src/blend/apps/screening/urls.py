from django.urls import path

from blend.apps.screening import views

app_name = "screening"
urlpatterns = [
    path("log/", views.log, name="log"),
    path("<str:study_id>/", views.screen, name="form"),
    path("<str:study_id>/preview/", views.preview, name="preview"),
    path("<str:study_id>/confirm/", views.confirm, name="confirm"),
]

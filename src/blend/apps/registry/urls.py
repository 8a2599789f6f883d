from django.urls import path

from blend.apps.registry import views

# The participant list, page and dashboard are the overview app's (they compose every app).
urlpatterns = [
    path("participants/new/", views.register, name="participant-register"),
    path("participants/<str:study_id>/edit/", views.participant_edit, name="participant-edit"),
]

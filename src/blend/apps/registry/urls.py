from django.urls import path

from blend.apps.registry import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("participants/", views.participant_list, name="participant-list"),
    path("participants/new/", views.register, name="participant-register"),
    path("participants/<str:study_id>/", views.participant_detail, name="participant-detail"),
    path("participants/<str:study_id>/edit/", views.participant_edit, name="participant-edit"),
]

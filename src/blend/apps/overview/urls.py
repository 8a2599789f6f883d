from django.urls import path

from blend.apps.overview import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("participants/", views.participant_list, name="participant-list"),
    path("participants/<str:study_id>/", views.participant_detail, name="participant-detail"),
]

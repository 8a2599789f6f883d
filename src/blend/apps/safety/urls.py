from django.urls import path

from blend.apps.safety import views

app_name = "safety"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("grades/", views.grades, name="grades"),
    path("<str:study_id>/new/grades/", views.grades),
    path("ae/<int:pk>/edit/grades/", views.grades),
    path("ae/<int:pk>/follow-up/grades/", views.grades),
    path("terms/", views.terms, name="terms"),
    path("<str:study_id>/new/terms/", views.terms),
    path("ae/<int:pk>/edit/terms/", views.terms),
    path("ae/<int:pk>/follow-up/terms/", views.terms),
    path("<str:study_id>/new/check/", views.live_check, name="live-check"),
    path("ae/<int:pk>/edit/check/", views.live_check),
    path("ae/<int:pk>/follow-up/check/", views.live_check),
    path("<str:study_id>/new/", views.report, name="report"),
    path("ae/<int:pk>/", views.detail, name="detail"),
    path("ae/<int:pk>/edit/", views.edit, name="edit"),
    path("ae/<int:pk>/follow-up/", views.follow_up, name="follow-up"),
    path("ae/<int:pk>/reported/", views.reported, name="reported"),
    path("death-review/<str:study_id>/", views.death_review, name="death-review"),
]

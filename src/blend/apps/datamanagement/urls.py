from django.urls import path

from blend.apps.datamanagement import views

app_name = "datamanagement"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("check-data/", views.run_checks, name="check-data"),
    path("queries/<int:pk>/", views.query_detail, name="query"),
    path("database/lock/", views.lock_database, name="lock-database"),
    path("database/unlock/", views.unlock_database, name="unlock-database"),
    path("<str:study_id>/query/", views.raise_query, name="raise-query"),
    path("<str:study_id>/lock/", views.lock, name="lock"),
    path("<str:study_id>/unlock/", views.unlock, name="unlock"),
    path("<str:study_id>/verify/", views.verify, name="verify"),
    path("<str:study_id>/sign-off/", views.sign_off, name="sign-off"),
]

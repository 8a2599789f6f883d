from django.urls import path

from blend.apps.allocation import views

app_name = "allocation"
urlpatterns = [
    path("overview/", views.overview_view, name="overview"),
    path("<str:study_id>/", views.detail, name="detail"),
    path("<str:study_id>/randomize/", views.randomize_view, name="randomize"),
]

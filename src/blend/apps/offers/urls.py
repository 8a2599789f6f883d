from django.urls import path

from blend.apps.offers import views

app_name = "offers"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("acceptance/", views.acceptance, name="acceptance"),
    path("acceptance/figure/", views.acceptance_figure, name="acceptance-figure"),
    path("<str:study_id>/offer/", views.offer, name="offer"),
    path("<str:study_id>/accept/", views.accept, name="accept"),
    path("<str:study_id>/refuse/", views.refuse, name="refuse"),
    path("<str:study_id>/not-offered/", views.not_offered, name="not-offered"),
]

from django.urls import path

from blend.apps.consent import views

app_name = "consent"
urlpatterns = [
    path("over-time/", views.over_time, name="over-time"),
    path("mine/<str:token>/", views.my_choices, name="my-choices"),
    path("<str:study_id>/choices-link/", views.choices_link, name="choices-link"),
    path("<str:study_id>/record/", views.record, name="record"),
    path("<str:study_id>/withdraw/", views.withdraw, name="withdraw"),
]

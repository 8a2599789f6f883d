from django.urls import path

from blend.apps.consent import views

app_name = "consent"
urlpatterns = [
    path("<str:study_id>/record/", views.record, name="record"),
    path("<str:study_id>/withdraw/", views.withdraw, name="withdraw"),
]

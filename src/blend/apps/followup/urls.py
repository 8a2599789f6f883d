from django.urls import path

from blend.apps.followup import views

app_name = "followup"
urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("completeness/", views.completeness, name="completeness"),
    path("engagement/", views.engagement, name="engagement"),
    path("engagement/figure/", views.engagement_figure, name="engagement-figure"),
    path("<str:study_id>/vital-status/", views.vital_status, name="vital-status"),
    path("<str:study_id>/<slug:kind>/new/", views.clinical_new, name="clinical-new"),
]

from django.urls import path

from blend.apps.questionnaires import views

app_name = "questionnaires"
urlpatterns = [
    path("q/<str:token>/", views.patient, name="patient"),
    path("mine/<str:token>/", views.my_results, name="own-results"),
    path("assessment/<int:pk>/", views.assessment_view, name="assessment"),
    path("extra/<int:pk>/", views.extra_view, name="extra"),
    path("translations/", views.translations, name="translations"),
]

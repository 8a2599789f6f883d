from django.urls import path

from blend.apps.prescreening import views

app_name = "prescreening"
urlpatterns = [
    path("", views.worklist_page, name="worklist"),
]
urlpatterns.append(path("<str:study_id>/facts/", views.record_facts, name="facts"))
urlpatterns.append(
    path("<str:study_id>/facts/confirm/", views.confirm_imports, name="confirm-imports")
)

from django.urls import path

from blend.apps.treatment import views

app_name = "treatment"
urlpatterns = [path("<str:study_id>/", views.edit, name="edit")]

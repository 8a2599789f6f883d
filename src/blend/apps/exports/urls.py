from django.urls import path

from blend.apps.exports import views

app_name = "exports"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("import/", views.import_page, name="import"),
    path("import/<int:pk>/", views.import_job, name="import-job"),
    path("<str:kind>/download/", views.download, name="download"),
]

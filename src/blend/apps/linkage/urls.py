from django.urls import path

from blend.apps.linkage import views

app_name = "linkage"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("ncr/export/", views.export_ncr_file, name="export-ncr"),
    path("brp/import/", views.import_brp_file, name="import-brp"),
    path("conflicts/<int:pk>/", views.conflict, name="conflict"),
]

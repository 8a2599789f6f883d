from django.urls import path

from blend.apps.trials import views

app_name = "trials"
urlpatterns = [path("switch/", views.switch, name="switch")]

from django.urls import path

from blend.apps.disclosure import views

app_name = "disclosure"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:trial>/", views.release_detail, name="release"),
    path("<str:trial>/release/", views.release, name="release-results"),
    path("<str:trial>/template/<str:arm_group>/", views.template, name="template"),
    path("<str:trial>/review/<str:arm_group>/", views.review, name="review"),
    path("<str:trial>/send/", views.send, name="send"),
    path("<str:trial>/member/<str:study_id>/", views.member, name="member"),
]

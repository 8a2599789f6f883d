from django.contrib.auth import views as auth_views
from django.urls import path

from blend.apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("locked/", views.locked, name="locked"),
    path("roles/", views.role_matrix, name="roles"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/<int:user_id>/", views.staff_detail, name="staff-detail"),
    path("staff/<int:user_id>/<slug:action>/", views.staff_action, name="staff-action"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:grant_id>/<slug:action>/", views.grant_decide, name="grant-decide"),
    path("password/", views.ChangePasswordView.as_view(), name="password-change"),
    path("password/reset/", views.password_reset, name="password-reset"),
    path("password/reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path("password/set/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="password-set"),
]

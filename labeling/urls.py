app_name = "labeling"
urlpatterns = []

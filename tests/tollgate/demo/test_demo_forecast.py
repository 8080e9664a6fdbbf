"""The demo company shows a spend forecast with its backtest, computed through the service after its costs."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.urls import reverse

from portfolio.models import CostForecast, MonthlyCost


def test_the_demo_has_a_forecast_with_its_backtest(demo, client):
    forecast = CostForecast.objects.get()
    assert forecast.as_of == date(2026, 9, 1) and forecast.payload["months"][0] == "2026-10"
    assert forecast.backtest_mape is not None and forecast.payload["backtest"]["as_of"] == "2026-06"
    with_costs = MonthlyCost.objects.filter(initiative__isnull=False).values("initiative").distinct().count()
    assert forecast.initiative_forecasts.count() == with_costs
    assert forecast.payload["method"]["initiatives"].get("volume_x_price", 0) > 0  # API users: volume x price
    assert "Forecast as of 2026-09" in demo.output
    client.force_login(get_user_model().objects.get(username="executive"))
    content = client.get(reverse("portfolio:cost_forecast")).content.decode()
    assert 'id="forecast-chart"' in content and 'id="forecast-backtest-mape"' in content

"""The Predict tab's parts: its source bar and loader, its controls, its results panel (the tab is app/views/predict_tab.py)."""

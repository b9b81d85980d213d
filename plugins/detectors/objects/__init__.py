"""Phones, books, laptops and people with Ultralytics YOLO (plugin ``detectors.objects``)."""

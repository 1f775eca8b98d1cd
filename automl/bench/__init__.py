"""The benchmark harness: automl, baselines and peers side by side under one protocol.

protocol.py  datasets (MANIFEST.csv) and the one fixed split
systems.py   the registry of systems; ours.py, baselines.py, peers.py hold their runners
worker.py    one system on one dataset, in its own subprocess; measure.py its cost figures
runner.py    orchestration, time-outs, progress; scores.py and report.py the outputs
"""

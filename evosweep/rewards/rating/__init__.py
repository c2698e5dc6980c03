"""Human feedback in the browser (``reward=human_web``).

The run serves a rating page (:mod:`.server`, :mod:`page.html <.page>`); each
generation's distinct outputs are rated there, by score or by pairwise
comparison (:mod:`.pairwise`), and every rating is appended to the run
folder's ``ratings.jsonl`` (:mod:`.ratings_log`) as it arrives.
"""

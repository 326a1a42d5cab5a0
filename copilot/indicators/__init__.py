"""City vital-sign indicator library (城市体征指标专题库)."""

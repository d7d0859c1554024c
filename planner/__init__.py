"""Offline planning: the program under Pulumi's mock runtime, without a cloud."""

"""Parameter-server training with an in-process cluster (2 workers, 1 ps),
through the same `train()` the CLI uses.

    python -m tests.distribute.ps_job MODEL_DIR DATA_FILE
"""

import json
import os
import socket
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def main():
    model_dir, data_file = sys.argv[1], sys.argv[2]
    ports = {"chief": [free_port()], "worker": [free_port(), free_port()], "ps": [free_port()]}
    cluster = {job: [f"localhost:{p}" for p in job_ports] for job, job_ports in ports.items()}
    os.environ["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                          "task": {"type": "chief", "index": 0}})
    os.environ["GRPC_FAIL_FAST"] = "use_caller"

    import tensorflow as tf

    spec = tf.train.ClusterSpec(cluster)
    config = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=4)
    servers = [tf.distribute.Server(spec, job_name=job, task_index=i, protocol="grpc",
                                    config=config, start=True)
               for job in ("worker", "ps") for i in range(len(cluster[job]))]

    from tests.distribute.job import experiment_for
    from tfzoo.training.trainer import train

    experiment = experiment_for(data_file, "parameter_server", epochs=3, steps=8)
    _, summary, _ = train(experiment, model_dir)
    with open(os.path.join(model_dir, "summary.json"), "w") as f:
        json.dump(summary, f)
    del servers


if __name__ == "__main__":
    main()
